"""The production build: `next build` and the JavaScript each route loads, against budgets and a baseline (`nextjs`)."""
