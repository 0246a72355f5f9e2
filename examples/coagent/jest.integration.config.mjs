import nextJest from "next/jest.js";

const createJestConfig = nextJest({ dir: "./" });

/**
 * Integration tests: run the Lambda handler against a real DynamoDB table and S3 bucket
 * at the endpoint given by AWS_ENDPOINT_URL (for example a local moto_server).
 * @type {import('jest').Config}
 */
const config = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/backend/integration/**/*.integration.test.mjs"],
  modulePathIgnorePatterns: ["<rootDir>/backend/.aws-sam/", "<rootDir>/out/", "<rootDir>/.next/"],
  testTimeout: 30000,
};

export default createJestConfig(config);
