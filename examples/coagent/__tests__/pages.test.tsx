import { render, screen } from "@testing-library/react";
import AboutPage from "@/app/about/page";
import ListingsPage from "@/app/listings/page";
import MortgagePage from "@/app/mortgage/page";
import HomePage from "@/app/page";
import SiteHeader, { NAV_LINKS } from "@/components/SiteHeader";

describe("pages", () => {
  it("home page has one h1 and links to the tools", () => {
    render(<HomePage />);
    expect(screen.getAllByRole("heading", { level: 1 })).toHaveLength(1);
    expect(
      screen.getByText(/4 active listings, median asking price \$545,000/),
    ).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Mortgage calculator" })).toHaveAttribute(
      "href",
      "/mortgage",
    );
  });

  it("listings page renders the browser", () => {
    render(<ListingsPage />);
    expect(screen.getByRole("heading", { level: 1, name: "Listings" })).toBeInTheDocument();
    expect(screen.getByRole("form", { name: "Filter listings" })).toBeInTheDocument();
  });

  it("mortgage page renders the calculator", () => {
    render(<MortgagePage />);
    expect(
      screen.getByRole("heading", { level: 1, name: "Mortgage calculator" }),
    ).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Calculate" })).toBeInTheDocument();
  });

  describe("about page", () => {
    const previous = process.env.NEXT_PUBLIC_API_URL;
    afterEach(() => {
      if (previous === undefined) delete process.env.NEXT_PUBLIC_API_URL;
      else process.env.NEXT_PUBLIC_API_URL = previous;
    });

    it("says when no API is configured", () => {
      delete process.env.NEXT_PUBLIC_API_URL;
      render(<AboutPage />);
      expect(screen.getByText(/No listings API is configured/)).toBeInTheDocument();
    });

    it("shows the configured API endpoint", () => {
      process.env.NEXT_PUBLIC_API_URL = "https://api.example.test/Prod/";
      render(<AboutPage />);
      expect(screen.getByText("https://api.example.test/Prod/listings")).toBeInTheDocument();
    });
  });
});

describe("SiteHeader", () => {
  it("renders the main navigation", () => {
    render(<SiteHeader />);
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(nav).toBeInTheDocument();
    for (const link of NAV_LINKS) {
      expect(screen.getByRole("link", { name: link.label })).toHaveAttribute("href", link.href);
    }
  });
});
