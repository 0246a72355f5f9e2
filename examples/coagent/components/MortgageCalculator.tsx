"use client";

import { type FormEvent, useId, useState } from "react";
import { formatCurrency } from "@/lib/format";
import {
  MAX_TERM_YEARS,
  type MortgageErrors,
  type MortgageInput,
  type MortgageSummary,
  summarizeMortgage,
  validateMortgageInput,
} from "@/lib/mortgage";

type FieldValues = Record<keyof MortgageInput, string>;

const DEFAULTS: FieldValues = {
  homePrice: "450000",
  downPayment: "90000",
  annualRatePercent: "6.5",
  termYears: "30",
};

const TERMS = [10, 15, 20, 25, 30, MAX_TERM_YEARS];

/** Parses a user-typed number, tolerating thousands separators and a leading "$". */
export function parseAmount(raw: string): number {
  const cleaned = raw.replace(/[$,\s]/g, "");
  return cleaned === "" ? Number.NaN : Number(cleaned);
}

export default function MortgageCalculator() {
  const id = useId();
  const [values, setValues] = useState<FieldValues>(DEFAULTS);
  const [errors, setErrors] = useState<MortgageErrors>({});
  const [summary, setSummary] = useState<MortgageSummary | null>(null);

  const update = (field: keyof MortgageInput) => (value: string) =>
    setValues((prev) => ({ ...prev, [field]: value }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input: MortgageInput = {
      homePrice: parseAmount(values.homePrice),
      downPayment: parseAmount(values.downPayment),
      annualRatePercent: parseAmount(values.annualRatePercent),
      termYears: parseAmount(values.termYears),
    };
    const found = validateMortgageInput(input);
    setErrors(found);
    setSummary(Object.keys(found).length === 0 ? summarizeMortgage(input) : null);
  }

  const fieldProps = (field: keyof MortgageInput) => ({
    id: `${id}-${field}`,
    name: field,
    "aria-invalid": errors[field] ? true : undefined,
    "aria-describedby": errors[field] ? `${id}-${field}-error` : undefined,
  });

  const errorText = (field: keyof MortgageInput) =>
    errors[field] ? (
      <p id={`${id}-${field}-error`} className="error">
        {errors[field]}
      </p>
    ) : null;

  return (
    <section aria-labelledby={`${id}-title`} className="calculator">
      <h2 id={`${id}-title`}>Estimate a monthly payment</h2>
      <form onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-homePrice`}>Home price (USD)</label>
          <input
            {...fieldProps("homePrice")}
            type="text"
            inputMode="decimal"
            value={values.homePrice}
            onChange={(e) => update("homePrice")(e.target.value)}
          />
          {errorText("homePrice")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-downPayment`}>Down payment (USD)</label>
          <input
            {...fieldProps("downPayment")}
            type="text"
            inputMode="decimal"
            value={values.downPayment}
            onChange={(e) => update("downPayment")(e.target.value)}
          />
          {errorText("downPayment")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-annualRatePercent`}>Interest rate (% per year)</label>
          <input
            {...fieldProps("annualRatePercent")}
            type="text"
            inputMode="decimal"
            value={values.annualRatePercent}
            onChange={(e) => update("annualRatePercent")(e.target.value)}
          />
          {errorText("annualRatePercent")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-termYears`}>Loan term</label>
          <select
            {...fieldProps("termYears")}
            value={values.termYears}
            onChange={(e) => update("termYears")(e.target.value)}
          >
            {TERMS.map((years) => (
              <option key={years} value={String(years)}>
                {years} years
              </option>
            ))}
          </select>
          {errorText("termYears")}
        </div>
        <button type="submit" className="button">
          Calculate
        </button>
      </form>

      <div aria-live="polite" className="result">
        {summary && (
          <dl className="facts" aria-label="Mortgage estimate">
            <div>
              <dt>Monthly payment</dt>
              <dd data-testid="monthly-payment">{formatCurrency(summary.monthlyPayment)}</dd>
            </div>
            <div>
              <dt>Loan amount</dt>
              <dd>{formatCurrency(summary.principal)}</dd>
            </div>
            <div>
              <dt>Total interest</dt>
              <dd>{formatCurrency(summary.totalInterest)}</dd>
            </div>
            <div>
              <dt>Total of {summary.numberOfPayments} payments</dt>
              <dd>{formatCurrency(summary.totalPaid)}</dd>
            </div>
          </dl>
        )}
      </div>
    </section>
  );
}
