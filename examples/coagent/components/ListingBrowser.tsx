"use client";

import { useId, useMemo, useState } from "react";
import ListingCard from "@/components/ListingCard";
import { formatPrice } from "@/lib/format";
import {
  filterListings,
  type Listing,
  type ListingSort,
  medianPrice,
  SORT_OPTIONS,
  sortListings,
  uniqueCities,
} from "@/lib/listings";

export interface ListingBrowserProps {
  listings: readonly Listing[];
}

export default function ListingBrowser({ listings }: ListingBrowserProps) {
  const id = useId();
  const [city, setCity] = useState("");
  const [minBeds, setMinBeds] = useState(0);
  const [sort, setSort] = useState<ListingSort>("newest");

  const cities = useMemo(() => uniqueCities(listings), [listings]);
  const visible = useMemo(
    () => sortListings(filterListings(listings, { city: city || undefined, minBeds }), sort),
    [listings, city, minBeds, sort],
  );
  const median = medianPrice(visible);

  return (
    <>
      <form className="filters" aria-label="Filter listings" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-city`}>City</label>
          <select id={`${id}-city`} value={city} onChange={(e) => setCity(e.target.value)}>
            <option value="">All cities</option>
            {cities.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-beds`}>Minimum bedrooms</label>
          <select
            id={`${id}-beds`}
            value={minBeds}
            onChange={(e) => setMinBeds(Number(e.target.value))}
          >
            {[0, 1, 2, 3, 4].map((n) => (
              <option key={n} value={n}>
                {n === 0 ? "Any" : `${n}+`}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-sort`}>Sort by</label>
          <select
            id={`${id}-sort`}
            value={sort}
            onChange={(e) => setSort(e.target.value as ListingSort)}
          >
            {SORT_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
      </form>

      <p role="status" className="summary">
        {visible.length === 1 ? "1 listing" : `${visible.length} listings`}
        {median !== null && ` · median price ${formatPrice(median)}`}
      </p>

      {visible.length === 0 ? (
        <p>No listings match these filters.</p>
      ) : (
        <ul className="listing-grid">
          {visible.map((listing) => (
            <li key={listing.id}>
              <ListingCard listing={listing} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
