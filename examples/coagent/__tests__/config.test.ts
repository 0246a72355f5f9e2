import { apiUrl, getApiBaseUrl, loadRuntimeConfig } from "@/lib/config";

describe("getApiBaseUrl", () => {
  it("returns null when unset or blank", () => {
    expect(getApiBaseUrl(undefined)).toBeNull();
    expect(getApiBaseUrl("   ")).toBeNull();
  });

  it("strips trailing slashes", () => {
    expect(getApiBaseUrl("https://api.example.test/Prod/")).toBe("https://api.example.test/Prod");
  });

  it("reads NEXT_PUBLIC_API_URL by default", () => {
    const previous = process.env.NEXT_PUBLIC_API_URL;
    process.env.NEXT_PUBLIC_API_URL = "https://api.example.test/Prod";
    try {
      expect(getApiBaseUrl()).toBe("https://api.example.test/Prod");
    } finally {
      if (previous === undefined) delete process.env.NEXT_PUBLIC_API_URL;
      else process.env.NEXT_PUBLIC_API_URL = previous;
    }
  });
});

describe("apiUrl", () => {
  it("joins base and path", () => {
    expect(apiUrl("/listings", "https://api.example.test/Prod")).toBe(
      "https://api.example.test/Prod/listings",
    );
    expect(apiUrl("listings/1", "https://api.example.test")).toBe(
      "https://api.example.test/listings/1",
    );
  });

  it("returns null without a base URL", () => {
    expect(apiUrl("/listings", null)).toBeNull();
  });
});

describe("loadRuntimeConfig", () => {
  /** A fetch whose answer has `status` and parses `text` as JSON (jsdom has no Response). */
  const answering = (status: number, body: unknown, text = JSON.stringify(body)) =>
    jest.fn(async () => ({
      ok: status >= 200 && status < 300,
      json: async () => JSON.parse(text) as unknown,
    })) as unknown as typeof fetch;

  it("reads the deploy's config.json", async () => {
    const fetcher = answering(200, {
      apiUrl: "https://api.staging.test/Prod",
      release: "abc",
      extra: 1,
    });
    await expect(loadRuntimeConfig(fetcher)).resolves.toEqual({
      apiUrl: "https://api.staging.test/Prod",
      release: "abc",
    });
    expect(fetcher).toHaveBeenCalledWith("/config.json", { cache: "no-store" });
  });

  it("keeps only string values", async () => {
    await expect(loadRuntimeConfig(answering(200, { apiUrl: 42, release: null }))).resolves.toEqual(
      {},
    );
  });

  it("is empty when the file is absent, malformed, not an object or unreachable", async () => {
    await expect(loadRuntimeConfig(answering(404, {}))).resolves.toEqual({});
    await expect(loadRuntimeConfig(answering(200, ["a"]))).resolves.toEqual({});
    await expect(loadRuntimeConfig(answering(200, null, "{not json"))).resolves.toEqual({});
    const offline = jest.fn(async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    await expect(loadRuntimeConfig(offline)).resolves.toEqual({});
    await expect(loadRuntimeConfig(undefined)).resolves.toEqual({});
  });
});
