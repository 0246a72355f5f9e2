import { fireEvent, render, screen, within } from "@testing-library/react";
import ListingBrowser from "@/components/ListingBrowser";
import ListingCard from "@/components/ListingCard";
import { sampleListings } from "@/data/listings";

const cardTitles = () =>
  within(screen.getByRole("list"))
    .getAllByRole("heading", { level: 2 })
    .map((h) => h.textContent);

describe("ListingBrowser", () => {
  it("shows all listings, newest first, with a summary", () => {
    render(<ListingBrowser listings={sampleListings} />);
    expect(screen.getByRole("status")).toHaveTextContent("6 listings · median price $590,000");
    expect(cardTitles()[0]).toBe("Starter condo close to light rail");
  });

  it("filters by city and bedrooms and re-sorts", () => {
    render(<ListingBrowser listings={sampleListings} />);
    fireEvent.change(screen.getByLabelText("City"), { target: { value: "Portland" } });
    expect(cardTitles()).toEqual([
      "Modern townhouse with a rooftop deck",
      "Mid-century ranch with a large lot",
    ]);

    fireEvent.change(screen.getByLabelText("Sort by"), { target: { value: "price-asc" } });
    expect(cardTitles()[0]).toBe("Modern townhouse with a rooftop deck");

    fireEvent.change(screen.getByLabelText("Minimum bedrooms"), { target: { value: "3" } });
    expect(screen.getByRole("status")).toHaveTextContent("1 listing · median price $615,000");
  });

  it("explains when nothing matches", () => {
    render(<ListingBrowser listings={[]} />);
    expect(screen.getByRole("status")).toHaveTextContent("0 listings");
    expect(screen.getByText("No listings match these filters.")).toBeInTheDocument();
  });
});

describe("ListingCard", () => {
  it("renders the key facts of a listing", () => {
    render(<ListingCard listing={sampleListings[2]} />);
    const card = screen.getByRole("article", { name: "Family home on a quiet cul-de-sac" });
    expect(card).toHaveTextContent("$689,000");
    expect(card).toHaveTextContent("For sale");
    expect(card).toHaveTextContent("4 beds");
    expect(card).toHaveTextContent("2,450 sq ft");
    expect(card).toHaveTextContent("$281");
  });

  it("omits the price per square foot when the area is unknown", () => {
    render(<ListingCard listing={{ ...sampleListings[0], areaSqft: 0 }} />);
    expect(screen.queryByText("Price per sq ft")).not.toBeInTheDocument();
  });
});
