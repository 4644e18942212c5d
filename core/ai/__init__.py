"""Explanations of rules by any OpenAI-compatible LLM: the API key (secrets), what is sent
(prompt), the HTTP client and its errors (client), and the service with its cache (explain)."""
