import {
  amortizationSchedule,
  MAX_TERM_YEARS,
  monthlyPayment,
  summarizeMortgage,
  validateMortgageInput,
} from "@/lib/mortgage";

describe("monthlyPayment", () => {
  it("matches the standard annuity formula", () => {
    // $360,000 at 6.5% over 30 years is a well-known $2,275.44 payment.
    expect(monthlyPayment(360000, 6.5, 30)).toBe(2275.44);
    expect(monthlyPayment(200000, 5, 15)).toBe(1581.59);
  });

  it("divides the principal evenly at 0%", () => {
    expect(monthlyPayment(120000, 0, 10)).toBe(1000);
  });

  it("is zero for a zero principal", () => {
    expect(monthlyPayment(0, 6, 30)).toBe(0);
  });

  it("rejects invalid arguments", () => {
    expect(() => monthlyPayment(-1, 5, 30)).toThrow(RangeError);
    expect(() => monthlyPayment(1000, -1, 30)).toThrow(RangeError);
    expect(() => monthlyPayment(1000, 5, 0)).toThrow(RangeError);
  });
});

describe("validateMortgageInput", () => {
  const valid = { homePrice: 450000, downPayment: 90000, annualRatePercent: 6.5, termYears: 30 };

  it("accepts a valid input", () => {
    expect(validateMortgageInput(valid)).toEqual({});
  });

  it("reports each invalid field", () => {
    const errors = validateMortgageInput({
      homePrice: 0,
      downPayment: -5,
      annualRatePercent: 45,
      termYears: 2.5,
    });
    expect(Object.keys(errors).sort()).toEqual(
      ["annualRatePercent", "downPayment", "homePrice", "termYears"].sort(),
    );
  });

  it("rejects a down payment that covers the whole price", () => {
    expect(validateMortgageInput({ ...valid, downPayment: 450000 }).downPayment).toMatch(
      /less than the home price/,
    );
  });

  it("rejects NaN values and too long terms", () => {
    const errors = validateMortgageInput({
      homePrice: Number.NaN,
      downPayment: Number.NaN,
      annualRatePercent: Number.NaN,
      termYears: MAX_TERM_YEARS + 1,
    });
    expect(errors.homePrice).toBeDefined();
    expect(errors.downPayment).toBeDefined();
    expect(errors.annualRatePercent).toBeDefined();
    expect(errors.termYears).toBeDefined();
  });
});

describe("summarizeMortgage", () => {
  it("computes principal, payment and totals", () => {
    const s = summarizeMortgage({
      homePrice: 450000,
      downPayment: 90000,
      annualRatePercent: 6.5,
      termYears: 30,
    });
    expect(s.principal).toBe(360000);
    expect(s.monthlyPayment).toBe(2275.44);
    expect(s.numberOfPayments).toBe(360);
    expect(s.totalPaid).toBe(819158.4);
    expect(s.totalInterest).toBe(459158.4);
  });

  it("throws on invalid input", () => {
    expect(() =>
      summarizeMortgage({ homePrice: 0, downPayment: 0, annualRatePercent: 5, termYears: 30 }),
    ).toThrow(/home price/);
  });
});

describe("amortizationSchedule", () => {
  it("pays the loan off exactly by the last year", () => {
    const schedule = amortizationSchedule(200000, 5, 15);
    expect(schedule).toHaveLength(15);
    expect(schedule[14].remainingBalance).toBe(0);
    const principalPaid = schedule.reduce((sum, y) => sum + y.principalPaid, 0);
    expect(principalPaid).toBeCloseTo(200000, 0);
    // Interest falls and principal rises over time.
    expect(schedule[0].interestPaid).toBeGreaterThan(schedule[14].interestPaid);
    expect(schedule[0].principalPaid).toBeLessThan(schedule[14].principalPaid);
  });

  it("has no interest at 0%", () => {
    const schedule = amortizationSchedule(12000, 0, 1);
    expect(schedule).toEqual([
      { year: 1, principalPaid: 12000, interestPaid: 0, remainingBalance: 0 },
    ]);
  });
});
