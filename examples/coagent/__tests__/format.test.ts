import { formatArea, formatCurrency, formatPrice, pluralize, slugify } from "@/lib/format";

describe("formatPrice", () => {
  it("formats whole US dollars with thousands separators", () => {
    expect(formatPrice(450000)).toBe("$450,000");
    expect(formatPrice(0)).toBe("$0");
  });

  it("rounds to whole dollars", () => {
    expect(formatPrice(1234.56)).toBe("$1,235");
  });

  it("rejects non-finite values", () => {
    expect(() => formatPrice(Number.NaN)).toThrow(RangeError);
    expect(() => formatPrice(Infinity)).toThrow(RangeError);
  });
});

describe("formatCurrency", () => {
  it("always shows cents", () => {
    expect(formatCurrency(1234.5)).toBe("$1,234.50");
    expect(formatCurrency(2275.44)).toBe("$2,275.44");
  });

  it("rejects non-finite values", () => {
    expect(() => formatCurrency(Number.NaN)).toThrow(RangeError);
  });
});

describe("formatArea", () => {
  it("formats square feet", () => {
    expect(formatArea(1850)).toBe("1,850 sq ft");
    expect(formatArea(720.4)).toBe("720 sq ft");
  });

  it("rejects negative or non-finite areas", () => {
    expect(() => formatArea(-1)).toThrow(RangeError);
    expect(() => formatArea(Number.NaN)).toThrow(RangeError);
  });
});

describe("slugify", () => {
  it.each([
    ["Sunny 2BR Loft!", "sunny-2br-loft"],
    ["  Café & Garden  ", "cafe-and-garden"],
    ["---", ""],
    ["Downtown loft with skyline views", "downtown-loft-with-skyline-views"],
  ])("slugify(%j) -> %j", (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });
});

describe("pluralize", () => {
  it("uses the singular for one and the plural otherwise", () => {
    expect(pluralize(1, "bed")).toBe("1 bed");
    expect(pluralize(0, "bed")).toBe("0 beds");
    expect(pluralize(3, "bath")).toBe("3 baths");
    expect(pluralize(2, "person", "people")).toBe("2 people");
  });
});
