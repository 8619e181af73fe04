import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The center serves dist/ at its own origin; the API is at /api.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
});
