import type { Metadata } from "next";
import ListingBrowser from "@/components/ListingBrowser";
import { sampleListings } from "@/data/listings";

export const metadata: Metadata = {
  title: "Listings",
  description:
    "Browse, filter and sort the current CoAgent sample listings by city, bedrooms and price.",
};

export default function ListingsPage() {
  return (
    <>
      <h1>Listings</h1>
      <p className="lead">Filter the sample listings by city and bedrooms, then sort them.</p>
      <ListingBrowser listings={sampleListings} />
    </>
  );
}
