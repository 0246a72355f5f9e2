import nextJest from "next/jest.js";

const createJestConfig = nextJest({ dir: "./" });

/**
 * Tests of a deployed stack (`accept --env staging`): they call the API at the stack's ApiUrl
 * output (STACK_ApiUrl) over HTTPS and change nothing there.
 * @type {import('jest').Config}
 */
const config = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/backend/deployed/**/*.deployed.test.mjs"],
  modulePathIgnorePatterns: ["<rootDir>/backend/.aws-sam/", "<rootDir>/out/", "<rootDir>/.next/"],
  testTimeout: 30000,
};

export default createJestConfig(config);
