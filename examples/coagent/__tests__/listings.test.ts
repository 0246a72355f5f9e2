import { sampleListings } from "@/data/listings";
import {
  filterListings,
  type Listing,
  medianPrice,
  pricePerSqft,
  sortListings,
  uniqueCities,
} from "@/lib/listings";

const ids = (listings: Listing[]) => listings.map((l) => l.id);

describe("filterListings", () => {
  it("returns everything without a filter", () => {
    expect(filterListings(sampleListings)).toHaveLength(sampleListings.length);
  });

  it("filters by city, case- and whitespace-insensitively", () => {
    expect(ids(filterListings(sampleListings, { city: " denver " }))).toEqual([
      "lst-003",
      "lst-004",
    ]);
  });

  it("filters by price range, bedrooms and status", () => {
    expect(
      ids(filterListings(sampleListings, { minPrice: 500000, maxPrice: 650000, minBeds: 3 })),
    ).toEqual(["lst-001", "lst-005"]);
    expect(ids(filterListings(sampleListings, { status: "pending" }))).toEqual(["lst-002"]);
  });
});

describe("sortListings", () => {
  it("sorts by price both ways without mutating the input", () => {
    const before = ids([...sampleListings]);
    expect(ids(sortListings(sampleListings, "price-asc"))[0]).toBe("lst-004");
    expect(ids(sortListings(sampleListings, "price-desc"))[0]).toBe("lst-002");
    expect(ids([...sampleListings])).toEqual(before);
  });

  it("sorts by date listed, newest first", () => {
    expect(ids(sortListings(sampleListings, "newest")).slice(0, 2)).toEqual(["lst-004", "lst-003"]);
  });

  it("breaks ties by id", () => {
    expect(ids(sortListings(sampleListings, "beds-desc"))).toEqual([
      "lst-003",
      "lst-001",
      "lst-005",
      "lst-002",
      "lst-006",
      "lst-004",
    ]);
  });
});

describe("helpers", () => {
  it("lists distinct cities alphabetically", () => {
    expect(uniqueCities(sampleListings)).toEqual(["Austin", "Denver", "Portland"]);
  });

  it("computes price per square foot", () => {
    expect(pricePerSqft({ price: 500000, areaSqft: 2000 })).toBe(250);
    expect(pricePerSqft({ price: 500000, areaSqft: 0 })).toBeNull();
  });

  it("computes the median price", () => {
    expect(medianPrice([])).toBeNull();
    expect(medianPrice(sampleListings.slice(0, 3))).toBe(689000);
    expect(medianPrice(sampleListings.slice(0, 4))).toBe(627000);
  });
});
