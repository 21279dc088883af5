"""The configuration: sections (sections.py, auth.py), the whole file and its loading (settings.py)."""

from orchestrator.config.auth import AuthSettings, LimitSettings, ServiceSettings, TlsSettings
from orchestrator.config.context import (
    ConversationSettings,
    KnowledgeSettings,
    KnowledgeStoreSettings,
    TaskConversationSettings,
    TaskRetrievalSettings,
)
from orchestrator.config.evaluation import TemplateVariantSettings, ValidatorSettings
from orchestrator.config.feedback import FeedbackSettings, FeedbackStoreSettings
from orchestrator.config.sections import (
    BreakerConfig,
    CacheSettings,
    LogLevel,
    ModelSettings,
    ParamsSettings,
    ProviderSettings,
    ProviderType,
    RetryBudgetConfig,
    RoutingSettings,
    ServerSettings,
    SharedStateSettings,
    TaskCacheSettings,
    TaskSettings,
    TelemetrySettings,
    TemplateSettings,
    TemplateStoreSettings,
)
from orchestrator.config.settings import Settings, load_settings, settings_from_mapping

__all__ = [
    "AuthSettings",
    "BreakerConfig",
    "CacheSettings",
    "ConversationSettings",
    "FeedbackSettings",
    "FeedbackStoreSettings",
    "KnowledgeSettings",
    "KnowledgeStoreSettings",
    "LimitSettings",
    "LogLevel",
    "ModelSettings",
    "ParamsSettings",
    "ProviderSettings",
    "ProviderType",
    "RetryBudgetConfig",
    "RoutingSettings",
    "ServerSettings",
    "ServiceSettings",
    "Settings",
    "SharedStateSettings",
    "TaskCacheSettings",
    "TaskConversationSettings",
    "TaskRetrievalSettings",
    "TaskSettings",
    "TelemetrySettings",
    "TemplateSettings",
    "TemplateStoreSettings",
    "TemplateVariantSettings",
    "TlsSettings",
    "ValidatorSettings",
    "load_settings",
    "settings_from_mapping",
]
