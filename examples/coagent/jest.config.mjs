import nextJest from "next/jest.js";

const createJestConfig = nextJest({ dir: "./" });

/** @type {import('jest').Config} */
const config = {
  testEnvironment: "jsdom",
  setupFilesAfterEnv: ["<rootDir>/jest.setup.ts"],
  moduleNameMapper: {
    "^@/(.*)$": "<rootDir>/$1",
  },
  // Integration tests need a live DynamoDB/S3 endpoint (jest.integration.config.mjs), the deployed
  // ones a deployed stack (jest.deployed.config.mjs).
  testPathIgnorePatterns: [
    "<rootDir>/backend/integration/",
    "<rootDir>/backend/deployed/",
    "<rootDir>/out/",
    "<rootDir>/backend/.aws-sam/",
  ],
  modulePathIgnorePatterns: ["<rootDir>/backend/.aws-sam/", "<rootDir>/out/", "<rootDir>/.next/"],
  collectCoverageFrom: [
    "lib/**/*.{ts,tsx}",
    "components/**/*.{ts,tsx}",
    "data/**/*.ts",
    "app/**/*.{ts,tsx}",
    "backend/src/**/*.mjs",
    // The root layout only renders <html>/<body> and metadata; it is exercised by `next build`.
    "!app/layout.tsx",
    "!**/*.d.ts",
  ],
};

export default createJestConfig(config);
