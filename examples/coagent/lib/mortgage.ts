export interface MortgageInput {
  /** Purchase price of the home in USD. */
  homePrice: number;
  /** Down payment in USD. */
  downPayment: number;
  /** Annual interest rate in percent, e.g. 6.5. */
  annualRatePercent: number;
  /** Loan term in years. */
  termYears: number;
}

export interface MortgageSummary {
  principal: number;
  monthlyPayment: number;
  totalPaid: number;
  totalInterest: number;
  numberOfPayments: number;
}

export type MortgageErrors = Partial<Record<keyof MortgageInput, string>>;

export const MAX_TERM_YEARS = 40;
export const MAX_RATE_PERCENT = 30;

const roundCents = (value: number): number => Math.round(value * 100) / 100;

/**
 * Monthly payment of a fixed-rate, fully amortising loan.
 * Uses the standard annuity formula; a 0% rate simply divides the principal evenly.
 */
export function monthlyPayment(
  principal: number,
  annualRatePercent: number,
  termYears: number,
): number {
  if (principal < 0 || annualRatePercent < 0 || termYears <= 0) {
    throw new RangeError("principal and rate must be >= 0 and termYears must be > 0");
  }
  const n = Math.round(termYears * 12);
  if (principal === 0) return 0;
  const r = annualRatePercent / 100 / 12;
  if (r === 0) return roundCents(principal / n);
  const factor = Math.pow(1 + r, n);
  return roundCents((principal * r * factor) / (factor - 1));
}

/** Validates user input; returns an object with one message per invalid field (empty when valid). */
export function validateMortgageInput(input: MortgageInput): MortgageErrors {
  const errors: MortgageErrors = {};
  const { homePrice, downPayment, annualRatePercent, termYears } = input;

  if (!Number.isFinite(homePrice) || homePrice <= 0) {
    errors.homePrice = "Enter a home price greater than zero.";
  }
  if (!Number.isFinite(downPayment) || downPayment < 0) {
    errors.downPayment = "Enter a down payment of zero or more.";
  } else if (Number.isFinite(homePrice) && homePrice > 0 && downPayment >= homePrice) {
    errors.downPayment = "The down payment must be less than the home price.";
  }
  if (
    !Number.isFinite(annualRatePercent) ||
    annualRatePercent < 0 ||
    annualRatePercent > MAX_RATE_PERCENT
  ) {
    errors.annualRatePercent = `Enter an interest rate between 0 and ${MAX_RATE_PERCENT}%.`;
  }
  if (!Number.isInteger(termYears) || termYears < 1 || termYears > MAX_TERM_YEARS) {
    errors.termYears = `Enter a whole number of years between 1 and ${MAX_TERM_YEARS}.`;
  }
  return errors;
}

/** Full summary of a mortgage: principal, monthly payment and lifetime totals. Throws on invalid input. */
export function summarizeMortgage(input: MortgageInput): MortgageSummary {
  const errors = validateMortgageInput(input);
  const messages = Object.values(errors);
  if (messages.length > 0) {
    throw new RangeError(messages.join(" "));
  }
  const principal = roundCents(input.homePrice - input.downPayment);
  const payment = monthlyPayment(principal, input.annualRatePercent, input.termYears);
  const numberOfPayments = input.termYears * 12;
  const totalPaid = roundCents(payment * numberOfPayments);
  return {
    principal,
    monthlyPayment: payment,
    totalPaid,
    totalInterest: roundCents(totalPaid - principal),
    numberOfPayments,
  };
}

export interface AmortizationYear {
  year: number;
  principalPaid: number;
  interestPaid: number;
  remainingBalance: number;
}

/** Year-by-year amortisation schedule (the last payment absorbs rounding so the balance ends at 0). */
export function amortizationSchedule(
  principal: number,
  annualRatePercent: number,
  termYears: number,
): AmortizationYear[] {
  const payment = monthlyPayment(principal, annualRatePercent, termYears);
  const r = annualRatePercent / 100 / 12;
  const schedule: AmortizationYear[] = [];
  let balance = principal;

  for (let year = 1; year <= termYears; year++) {
    let principalPaid = 0;
    let interestPaid = 0;
    for (let month = 0; month < 12; month++) {
      const interest = balance * r;
      const isLast = year === termYears && month === 11;
      const toPrincipal = isLast ? balance : Math.min(payment - interest, balance);
      interestPaid += interest;
      principalPaid += toPrincipal;
      balance -= toPrincipal;
    }
    schedule.push({
      year,
      principalPaid: roundCents(principalPaid),
      interestPaid: roundCents(interestPaid),
      remainingBalance: roundCents(Math.max(balance, 0)),
    });
  }
  return schedule;
}
