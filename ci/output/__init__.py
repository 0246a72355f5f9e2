"""What a report becomes for people and tools: renderers (table, JSON, Markdown, GitHub annotations), SARIF, and
where the time went (timeline)."""
