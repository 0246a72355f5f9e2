import { splitCommission } from "@/lib/commission";

describe("splitCommission", () => {
  it("splits a simple 70/30 commission", () => {
    expect(
      splitCommission({ salePrice: 500000, commissionRatePercent: 3, brokerageSplitPercent: 30 }),
    ).toEqual({
      gross: 15000,
      referralFee: 0,
      brokerage: 4500,
      transactionFee: 0,
      agentNet: 10500,
    });
  });

  it("takes the referral fee before the split and the transaction fee after it", () => {
    const result = splitCommission({
      salePrice: 400000,
      commissionRatePercent: 2.5,
      brokerageSplitPercent: 20,
      referralFeePercent: 25,
      transactionFee: 395,
    });
    expect(result).toEqual({
      gross: 10000,
      referralFee: 2500,
      brokerage: 1500,
      transactionFee: 395,
      agentNet: 5605,
    });
  });

  it("never lets the transaction fee push the agent below zero", () => {
    const result = splitCommission({
      salePrice: 10000,
      commissionRatePercent: 1,
      brokerageSplitPercent: 50,
      transactionFee: 500,
    });
    expect(result.transactionFee).toBe(50);
    expect(result.agentNet).toBe(0);
  });

  it("rounds to cents", () => {
    const result = splitCommission({
      salePrice: 333333,
      commissionRatePercent: 2.75,
      brokerageSplitPercent: 33.3,
    });
    expect(result.gross).toBe(9166.66);
    expect(result.brokerage + result.agentNet).toBeCloseTo(result.gross, 2);
  });

  it.each([
    [{ salePrice: 0, commissionRatePercent: 3, brokerageSplitPercent: 30 }, /salePrice/],
    [{ salePrice: 1, commissionRatePercent: 101, brokerageSplitPercent: 30 }, /commissionRate/],
    [{ salePrice: 1, commissionRatePercent: 3, brokerageSplitPercent: -1 }, /brokerageSplit/],
    [
      {
        salePrice: 1,
        commissionRatePercent: 3,
        brokerageSplitPercent: 30,
        referralFeePercent: NaN,
      },
      /referralFee/,
    ],
    [
      { salePrice: 1, commissionRatePercent: 3, brokerageSplitPercent: 30, transactionFee: -1 },
      /transactionFee/,
    ],
  ])("rejects invalid input %#", (input, message) => {
    expect(() => splitCommission(input)).toThrow(message);
  });
});
