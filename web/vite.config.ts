import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The center serves dist/ at its own origin; the API is at /api.
export default defineConfig({
  plugins: [react()],
  // noVNC awaits at its modules' top level.
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  optimizeDeps: { esbuildOptions: { target: "es2022" } },
});
