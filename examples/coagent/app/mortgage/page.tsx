import type { Metadata } from "next";
import MortgageCalculator from "@/components/MortgageCalculator";

export const metadata: Metadata = {
  title: "Mortgage calculator",
  description:
    "Estimate the monthly payment, total interest and total cost of a fixed-rate mortgage for your buyers.",
};

export default function MortgagePage() {
  return (
    <>
      <h1>Mortgage calculator</h1>
      <p className="lead">
        A quick estimate for a fixed-rate loan. Taxes, insurance and HOA fees are not included.
      </p>
      <MortgageCalculator />
    </>
  );
}
