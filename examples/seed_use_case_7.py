"""The seed's use case 7 ("List with Filters") awaited in an asyncio program.

The lines inside ``main()`` after the marker are the seed's block verbatim, indented
(``../shared/seed/ModelRegistry.md``). Runs against ``MODELREGISTRY_DATABASE_URL`` (default:
the embedded SQLite file); ``tests/integration/test_seed_compat.py`` runs it on SQLite and
PostgreSQL and checks what it prints.
"""

import asyncio

from modelregistry import AsyncModelRegistry

CLAUDE = {
    "model_id": "claude-3-opus-20240229",
    "provider": "anthropic",
    "display_name": "Claude 3 Opus",
    "capabilities": {"supports_vision": True, "supports_tool_use": True},
    "context_window": 200_000,
    "max_output_tokens": 4096,
    "cost_per_1m_input_tokens": 15.0,
    "cost_per_1m_output_tokens": 75.0,
}


async def main() -> None:
    async with AsyncModelRegistry() as registry:
        await registry.register_model(CLAUDE)
        await registry.register_model(
            {**CLAUDE, "model_id": "claude-2.1", "display_name": "Claude 2.1", "status": "deprecated"}
        )
        # The seed's use case 7:
        from L04_model_gateway.models import ModelStatus

        # List only active Anthropic models
        models = await registry.list_models(
            provider="anthropic",
            status=ModelStatus.ACTIVE
        )

        for model in models:
            print(f"- {model.display_name}")


asyncio.run(main())
