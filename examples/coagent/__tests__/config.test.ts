import { apiUrl, getApiBaseUrl } from "@/lib/config";

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
