import { fireEvent, render, screen } from "@testing-library/react";
import MortgageCalculator, { parseAmount } from "@/components/MortgageCalculator";

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
const calculate = () => fireEvent.click(screen.getByRole("button", { name: "Calculate" }));

describe("MortgageCalculator", () => {
  it("has labelled fields and computes the default estimate", () => {
    render(<MortgageCalculator />);

    expect(screen.getByRole("heading", { level: 2, name: /monthly payment/i })).toBeInTheDocument();
    expect(screen.getByLabelText("Home price (USD)")).toHaveValue("450000");
    expect(screen.getByLabelText("Down payment (USD)")).toHaveValue("90000");
    expect(screen.getByLabelText("Interest rate (% per year)")).toHaveValue("6.5");
    expect(screen.getByLabelText("Loan term")).toHaveValue("30");
    expect(screen.queryByTestId("monthly-payment")).not.toBeInTheDocument();

    calculate();

    expect(screen.getByTestId("monthly-payment")).toHaveTextContent("$2,275.44");
    expect(screen.getByText("$360,000.00")).toBeInTheDocument();
    expect(screen.getByText("Total of 360 payments")).toBeInTheDocument();
  });

  it("recalculates after the user edits the form", () => {
    render(<MortgageCalculator />);

    type("Home price (USD)", "$250,000");
    type("Down payment (USD)", "50000");
    type("Interest rate (% per year)", "5");
    fireEvent.change(screen.getByLabelText("Loan term"), { target: { value: "15" } });
    calculate();

    expect(screen.getByTestId("monthly-payment")).toHaveTextContent("$1,581.59");
  });

  it("shows accessible errors for invalid input and hides the result", () => {
    render(<MortgageCalculator />);
    calculate();
    expect(screen.getByTestId("monthly-payment")).toBeInTheDocument();

    type("Home price (USD)", "");
    type("Down payment (USD)", "-1");
    calculate();

    const price = screen.getByLabelText("Home price (USD)");
    const down = screen.getByLabelText("Down payment (USD)");
    expect(price).toHaveAttribute("aria-invalid", "true");
    expect(price).toHaveAccessibleDescription("Enter a home price greater than zero.");
    expect(down).toHaveAccessibleDescription("Enter a down payment of zero or more.");
    expect(screen.getByLabelText("Loan term")).not.toHaveAttribute("aria-invalid");
    expect(screen.queryByTestId("monthly-payment")).not.toBeInTheDocument();
  });

  it("validates the rate", () => {
    render(<MortgageCalculator />);
    type("Interest rate (% per year)", "99");
    calculate();
    expect(screen.getByLabelText("Interest rate (% per year)")).toHaveAccessibleDescription(
      "Enter an interest rate between 0 and 30%.",
    );
  });
});

describe("parseAmount", () => {
  it("accepts currency-style input", () => {
    expect(parseAmount("$1,250,000")).toBe(1250000);
    expect(parseAmount(" 6.25 ")).toBe(6.25);
  });

  it("returns NaN for empty or non-numeric input", () => {
    expect(parseAmount("")).toBeNaN();
    expect(parseAmount("abc")).toBeNaN();
  });
});
