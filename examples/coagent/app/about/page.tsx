import type { Metadata } from "next";
import ListingsApi from "@/components/ListingsApi";

export const metadata: Metadata = {
  title: "About",
  description: "What CoAgent is, how the static site and the serverless listings API fit together.",
};

export default function AboutPage() {
  return (
    <>
      <h1>About CoAgent</h1>
      <p className="lead">
        CoAgent is a small assistant for real-estate agents. It is also the sample application of
        the Bayon Pipeline.
      </p>

      <h2>How it is built</h2>
      <ul>
        <li>A statically exported Next.js site (this page).</li>
        <li>
          A serverless listings API: one AWS Lambda function behind API Gateway, storing listings in
          DynamoDB and listing cards in S3.
        </li>
        <li>A typed domain library for mortgages, commissions and listing search.</li>
      </ul>

      <h2>Listings API</h2>
      <ListingsApi />
    </>
  );
}
