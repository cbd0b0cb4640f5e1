/** Default run budget: leaves room for the build within the five minutes of `pnpm bench`. */
export const DEFAULT_BUDGET_SECONDS = 220;
