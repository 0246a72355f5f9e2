"""Code quality: ESLint (`eslint`), TypeScript (`tsc`) and Prettier (`prettier`); `stage` composes them."""
