export interface CommissionInput {
  /** Final sale price in USD. */
  salePrice: number;
  /** Total commission rate on the sale in percent, e.g. 2.5. */
  commissionRatePercent: number;
  /** Share of the commission kept by the brokerage, in percent (e.g. 30 for a 70/30 split). */
  brokerageSplitPercent: number;
  /** Optional referral fee, in percent of the gross commission, paid before the split. */
  referralFeePercent?: number;
  /** Optional flat transaction fee in USD charged to the agent after the split. */
  transactionFee?: number;
}

export interface CommissionBreakdown {
  gross: number;
  referralFee: number;
  brokerage: number;
  transactionFee: number;
  agentNet: number;
}

const roundCents = (value: number): number => Math.round(value * 100) / 100;

function assertPercent(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw new RangeError(`${name} must be between 0 and 100, got ${value}`);
  }
}

/** Splits a sale's commission between referral partner, brokerage and agent. */
export function splitCommission(input: CommissionInput): CommissionBreakdown {
  const {
    salePrice,
    commissionRatePercent,
    brokerageSplitPercent,
    referralFeePercent = 0,
    transactionFee = 0,
  } = input;

  if (!Number.isFinite(salePrice) || salePrice <= 0) {
    throw new RangeError(`salePrice must be greater than zero, got ${salePrice}`);
  }
  assertPercent("commissionRatePercent", commissionRatePercent);
  assertPercent("brokerageSplitPercent", brokerageSplitPercent);
  assertPercent("referralFeePercent", referralFeePercent);
  if (!Number.isFinite(transactionFee) || transactionFee < 0) {
    throw new RangeError(`transactionFee must be zero or more, got ${transactionFee}`);
  }

  const gross = roundCents((salePrice * commissionRatePercent) / 100);
  const referralFee = roundCents((gross * referralFeePercent) / 100);
  const afterReferral = gross - referralFee;
  const brokerage = roundCents((afterReferral * brokerageSplitPercent) / 100);
  const beforeFee = roundCents(afterReferral - brokerage);
  const fee = Math.min(transactionFee, beforeFee);

  return {
    gross,
    referralFee,
    brokerage,
    transactionFee: fee,
    agentNet: roundCents(beforeFee - fee),
  };
}
