import Link from "next/link";
import { sampleListings } from "@/data/listings";
import { formatPrice } from "@/lib/format";
import { filterListings, medianPrice } from "@/lib/listings";

export default function HomePage() {
  const active = filterListings(sampleListings, { status: "for-sale" });
  const median = medianPrice(active);
  return (
    <>
      <section className="hero" aria-labelledby="home-title">
        <h1 id="home-title">Your co-pilot for every listing</h1>
        <p className="lead">
          CoAgent keeps your listings, buyer math and commission plans in one place, so you can
          spend more time with clients.
        </p>
        <p>
          <Link className="button" href="/listings">
            Browse listings
          </Link>
        </p>
      </section>

      <section aria-labelledby="market-title">
        <h2 id="market-title">Market snapshot</h2>
        <p>
          {active.length} active listings
          {median !== null && <>, median asking price {formatPrice(median)}</>}.
        </p>
      </section>

      <section aria-labelledby="tools-title">
        <h2 id="tools-title">Tools</h2>
        <ul className="feature-list">
          <li>
            <h3>
              <Link href="/listings">Listings</Link>
            </h3>
            <p>Filter by city and bedrooms, and sort by price or date listed.</p>
          </li>
          <li>
            <h3>
              <Link href="/mortgage">Mortgage calculator</Link>
            </h3>
            <p>Give buyers a monthly payment estimate in seconds.</p>
          </li>
          <li>
            <h3>
              <Link href="/about">About CoAgent</Link>
            </h3>
            <p>How the app and its listings API fit together.</p>
          </li>
        </ul>
      </section>
    </>
  );
}
