import { render, screen } from "@testing-library/react";
import ListingsApi from "@/components/ListingsApi";

describe("ListingsApi", () => {
  const previous = process.env.NEXT_PUBLIC_API_URL;
  afterEach(() => {
    if (previous === undefined) delete process.env.NEXT_PUBLIC_API_URL;
    else process.env.NEXT_PUBLIC_API_URL = previous;
  });

  it("shows the API of the environment's config.json once it is read", async () => {
    delete process.env.NEXT_PUBLIC_API_URL;
    render(<ListingsApi load={async () => ({ apiUrl: "https://api.staging.test/Prod/" })} />);
    expect(await screen.findByText("https://api.staging.test/Prod/listings")).toBeInTheDocument();
  });

  it("prefers config.json over the build's NEXT_PUBLIC_API_URL", async () => {
    process.env.NEXT_PUBLIC_API_URL = "https://api.build.test/Prod";
    render(<ListingsApi load={async () => ({ apiUrl: "https://api.production.test/Prod" })} />);
    expect(
      await screen.findByText("https://api.production.test/Prod/listings"),
    ).toBeInTheDocument();
  });

  it("keeps the build's URL when config.json has none", async () => {
    process.env.NEXT_PUBLIC_API_URL = "https://api.build.test/Prod";
    const load = jest.fn(async () => ({}));
    render(<ListingsApi load={load} />);
    expect(screen.getByText("https://api.build.test/Prod/listings")).toBeInTheDocument();
    await screen.findByText("https://api.build.test/Prod/listings");
    expect(load).toHaveBeenCalledTimes(1);
  });
});
