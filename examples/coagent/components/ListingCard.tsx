import { formatArea, formatPrice, pluralize, slugify } from "@/lib/format";
import { type Listing, pricePerSqft, STATUS_LABELS } from "@/lib/listings";

export interface ListingCardProps {
  listing: Listing;
}

export default function ListingCard({ listing }: ListingCardProps) {
  const headingId = `listing-${slugify(listing.title)}`;
  const perSqft = pricePerSqft(listing);
  return (
    <article className="card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        {listing.title}
      </h2>
      <p className="card-price">
        {formatPrice(listing.price)}{" "}
        <span className={`badge badge-${listing.status}`}>{STATUS_LABELS[listing.status]}</span>
      </p>
      <p className="card-address">
        {listing.address}, {listing.city}
      </p>
      <dl className="facts">
        <div>
          <dt>Bedrooms</dt>
          <dd>{pluralize(listing.beds, "bed")}</dd>
        </div>
        <div>
          <dt>Bathrooms</dt>
          <dd>{pluralize(listing.baths, "bath")}</dd>
        </div>
        <div>
          <dt>Area</dt>
          <dd>{formatArea(listing.areaSqft)}</dd>
        </div>
        {perSqft !== null && (
          <div>
            <dt>Price per sq ft</dt>
            <dd>{formatPrice(perSqft)}</dd>
          </div>
        )}
      </dl>
      <p>{listing.description}</p>
    </article>
  );
}
