-- A token's secret was kept in its creation task's result, which whoever
-- may see the root could read: those results go (the tokens stay valid;
-- their records are in api_tokens).
UPDATE tasks SET result = NULL WHERE operation = 'token.create';
