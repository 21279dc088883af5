"""One suite, every adapter and both transports: the same behaviour whichever provider answers, however it is reached.

openai, anthropic and openai_compatible run against the fake upstream on loopback through each transport, the
native aiohttp client and the official SDKs, so the two cannot drift; local runs the embedded model for real
(faults cannot be injected into it, so those cases skip it).
"""
