/** @jest-environment node */
// Runs against a deployed stack: the API at its ApiUrl output (STACK_ApiUrl, given by `accept`).
// Read-only: it never writes to the environment it checks.
import { randomUUID } from "node:crypto";

const apiUrl = process.env.STACK_ApiUrl;

beforeAll(() => {
  if (!apiUrl) {
    throw new Error("STACK_ApiUrl is not set: these tests run against a deployed stack (accept)");
  }
});

const get = (path) => fetch(new URL(path, apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`));

describe("the deployed listings API", () => {
  it("lists listings as JSON", async () => {
    const res = await get("listings");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Array.isArray(body.items)).toBe(true);
    expect(body.count).toBe(body.items.length);
  });

  it("answers 404 for an unknown listing", async () => {
    const res = await get(`listings/${randomUUID()}`);
    expect(res.status).toBe(404);
  });
});
