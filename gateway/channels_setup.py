"""Wire the channels into the gateway: settings and clients on app.state, the dispatcher task."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI

from gateway.api.routes import kb_pages, widget
from gateway.background import BackgroundJobs
from gateway.channels.dispatcher import OutboundDispatcher
from gateway.channels.settings import DeliverySettings, TelegramSettings, WebchatSettings, WechatSettings
from gateway.channels.telegram import TelegramClient
from gateway.channels.wechat import WechatClient
from gateway.channels.wechat_crypto import ReplayGuard, WechatCrypto
from gateway.conversations import ConversationStore
from gateway.coordination.wiring import Coordination


@dataclass
class Channels:
    """Everything channel routes need, as ``app.state.channels``."""

    webchat_settings: WebchatSettings = field(default_factory=WebchatSettings)
    telegram_settings: TelegramSettings = field(default_factory=TelegramSettings)
    wechat_settings: WechatSettings = field(default_factory=WechatSettings)
    delivery_settings: DeliverySettings = field(default_factory=DeliverySettings)
    telegram: TelegramClient | None = None
    wechat: WechatClient | None = None
    wechat_replay: ReplayGuard = field(init=False)
    wechat_crypto: WechatCrypto | None = None
    dispatcher: OutboundDispatcher = field(init=False)

    def __post_init__(self) -> None:
        wx = self.wechat_settings
        self.wechat_replay = ReplayGuard(wx.timestamp_window_seconds)
        aes_key = wx.encoding_aes_key.get_secret_value()
        self.wechat_crypto = WechatCrypto(aes_key, wx.app_id) if aes_key else None
        if wx.require_encryption and self.wechat_crypto is None:
            raise ValueError("KEFU_WECHAT_REQUIRE_ENCRYPTION needs KEFU_WECHAT_ENCODING_AES_KEY")


def install(app: FastAPI) -> None:
    app.include_router(kb_pages.router)
    app.include_router(widget.router)
    app.state.channels = Channels()


def start(
    channels: Channels, store: ConversationStore, coordination: Coordination, jobs: BackgroundJobs
) -> None:
    """In the lifespan (:mod:`gateway.composition`): the clients and the dispatcher job."""
    channels.telegram = (
        TelegramClient(channels.telegram_settings) if channels.telegram_settings.enabled else None
    )
    channels.wechat = WechatClient(channels.wechat_settings) if channels.wechat_settings.enabled else None
    channels.dispatcher = OutboundDispatcher(
        store,
        coordination.hub,
        telegram=channels.telegram,
        wechat=channels.wechat,
        max_attempts=max(channels.telegram_settings.max_attempts, channels.wechat_settings.max_attempts),
        turn_locks=coordination.locks("turn"),
        ownership=coordination.ownership,
        sweep_seconds=coordination.delivery_sweep_seconds,
    )
    jobs.spawn("channel_dispatcher", lambda: _run(channels))


async def _run(channels: Channels) -> None:
    """The dispatcher loop (app.state.jobs restarts it on failure); on shutdown the clients are closed."""
    try:
        window = timedelta(hours=channels.delivery_settings.resend_window_hours)
        await channels.dispatcher.run(resend_window=window)
    except asyncio.CancelledError:
        for client in (channels.telegram, channels.wechat):
            if client is not None:
                await client.aclose()
        raise
