"""The performance stage: Lighthouse audits of the production build or a deployed site (`lighthouse`)."""
