import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  {
    // The Lambda backend is plain JavaScript (ES modules) running on Node.js, not part of the Next app.
    files: ["backend/**/*.mjs"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
    },
  },
  globalIgnores([
    ".next/**",
    "out/**",
    "coverage/**",
    "reports/**",
    "node_modules/**",
    "next-env.d.ts",
    "backend/.aws-sam/**",
  ]),
]);
