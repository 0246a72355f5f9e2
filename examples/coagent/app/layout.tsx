import type { Metadata, Viewport } from "next";
import SiteHeader from "@/components/SiteHeader";
import "./globals.css";

export const metadata: Metadata = {
  title: {
    default: "CoAgent – the assistant for real-estate agents",
    template: "%s | CoAgent",
  },
  description:
    "CoAgent helps real-estate agents browse listings, estimate mortgage payments for buyers and plan commission splits.",
  applicationName: "CoAgent",
};

export const viewport: Viewport = {
  themeColor: "#0b4f8a",
};

export default function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <SiteHeader />
        <main id="main" className="container">
          {children}
        </main>
        <footer className="site-footer">
          <div className="container">
            <p>CoAgent sample application. Listings shown are fictional.</p>
          </div>
        </footer>
      </body>
    </html>
  );
}
