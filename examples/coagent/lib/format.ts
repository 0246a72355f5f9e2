const usd = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  maximumFractionDigits: 0,
});

const usdCents = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Formats a price in whole US dollars, e.g. 450000 -> "$450,000". */
export function formatPrice(value: number): string {
  if (!Number.isFinite(value)) {
    throw new RangeError(`formatPrice expects a finite number, got ${value}`);
  }
  return usd.format(value);
}

/** Formats an amount in US dollars with cents, e.g. 1234.5 -> "$1,234.50". */
export function formatCurrency(value: number): string {
  if (!Number.isFinite(value)) {
    throw new RangeError(`formatCurrency expects a finite number, got ${value}`);
  }
  return usdCents.format(value);
}

/** Formats a floor area in square feet, e.g. 1850 -> "1,850 sq ft". */
export function formatArea(squareFeet: number): string {
  if (!Number.isFinite(squareFeet) || squareFeet < 0) {
    throw new RangeError(`formatArea expects a non-negative number, got ${squareFeet}`);
  }
  return `${integer.format(squareFeet)} sq ft`;
}

/** Turns a free-text title into a URL-friendly slug: "Sunny 2BR Loft!" -> "sunny-2br-loft". */
export function slugify(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Pluralises a simple English noun: pluralize(1, "bed") -> "1 bed", pluralize(3, "bed") -> "3 beds". */
export function pluralize(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
