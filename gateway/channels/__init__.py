"""Customer channels besides the web chat: Telegram and WeChat Official Account."""
