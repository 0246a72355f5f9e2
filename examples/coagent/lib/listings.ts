export type ListingStatus = "for-sale" | "pending" | "sold";

export interface Listing {
  id: string;
  title: string;
  address: string;
  city: string;
  price: number;
  beds: number;
  baths: number;
  areaSqft: number;
  status: ListingStatus;
  /** ISO date (YYYY-MM-DD) on which the listing went live. */
  listedOn: string;
  description: string;
}

export interface ListingFilter {
  city?: string;
  minPrice?: number;
  maxPrice?: number;
  minBeds?: number;
  status?: ListingStatus;
}

export type ListingSort = "price-asc" | "price-desc" | "newest" | "beds-desc";

export const SORT_OPTIONS: ReadonlyArray<{ value: ListingSort; label: string }> = [
  { value: "newest", label: "Newest first" },
  { value: "price-asc", label: "Price: low to high" },
  { value: "price-desc", label: "Price: high to low" },
  { value: "beds-desc", label: "Most bedrooms" },
];

const sameCity = (a: string, b: string): boolean =>
  a.trim().localeCompare(b.trim(), "en", { sensitivity: "base" }) === 0;

/** Returns the listings that match every criterion that is set in the filter. */
export function filterListings(
  listings: readonly Listing[],
  filter: ListingFilter = {},
): Listing[] {
  return listings.filter((listing) => {
    if (filter.city && !sameCity(listing.city, filter.city)) return false;
    if (filter.minPrice !== undefined && listing.price < filter.minPrice) return false;
    if (filter.maxPrice !== undefined && listing.price > filter.maxPrice) return false;
    if (filter.minBeds !== undefined && listing.beds < filter.minBeds) return false;
    if (filter.status && listing.status !== filter.status) return false;
    return true;
  });
}

/** Returns a sorted copy; ties are broken by id so the order is stable and deterministic. */
export function sortListings(listings: readonly Listing[], sort: ListingSort): Listing[] {
  const compare: Record<ListingSort, (a: Listing, b: Listing) => number> = {
    "price-asc": (a, b) => a.price - b.price,
    "price-desc": (a, b) => b.price - a.price,
    newest: (a, b) => b.listedOn.localeCompare(a.listedOn),
    "beds-desc": (a, b) => b.beds - a.beds,
  };
  const byKey = compare[sort];
  return [...listings].sort((a, b) => byKey(a, b) || a.id.localeCompare(b.id));
}

/** Distinct cities, sorted alphabetically. */
export function uniqueCities(listings: readonly Listing[]): string[] {
  return [...new Set(listings.map((l) => l.city))].sort((a, b) => a.localeCompare(b));
}

/** Price per square foot rounded to whole dollars (null when the area is unknown). */
export function pricePerSqft(listing: Pick<Listing, "price" | "areaSqft">): number | null {
  if (listing.areaSqft <= 0) return null;
  return Math.round(listing.price / listing.areaSqft);
}

/** Median asking price of the given listings (null for an empty list). */
export function medianPrice(listings: readonly Listing[]): number | null {
  if (listings.length === 0) return null;
  const prices = listings.map((l) => l.price).sort((a, b) => a - b);
  const mid = Math.floor(prices.length / 2);
  return prices.length % 2 === 0 ? (prices[mid - 1] + prices[mid]) / 2 : prices[mid];
}

export const STATUS_LABELS: Record<ListingStatus, string> = {
  "for-sale": "For sale",
  pending: "Pending",
  sold: "Sold",
};
