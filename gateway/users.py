"""Manage agent accounts: ``python -m gateway.users create NAME --role agent|supervisor|admin``.

The password is read from standard input (one line), never from the command line, so it does
not end up in the shell history or the process list:

    echo 'a-long-password' | .venv/bin/python -m gateway.users create wang --role agent
    .venv/bin/python -m gateway.users list
    .venv/bin/python -m gateway.users set-password wang      # new password on stdin
    .venv/bin/python -m gateway.users disable wang
"""

from __future__ import annotations

import argparse
import getpass
import sys

from gateway.agents.auth import AgentDirectory, InvalidAccount
from gateway.agents.models import ROLES
from gateway.agents.settings import get_auth_settings
from kefu.db import make_engine, make_session_factory, upgrade_database
from kefu.settings import get_common_settings


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码 / Password: ")
        if getpass.getpass("再次输入 / Repeat: ") != first:
            raise InvalidAccount("两次输入的密码不一致", "The passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _directory(database_url: str | None) -> AgentDirectory:
    url = database_url or get_common_settings().database_url
    upgrade_database(url)
    return AgentDirectory(make_session_factory(make_engine(url)), get_auth_settings())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.users", description="Agent console accounts.")
    parser.add_argument("--database-url", help="default: KEFU_DATABASE_URL (var/kefu.db)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="add an agent; the password is read from stdin")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="agent")
    create.add_argument("--display-name", help="name the customer sees (default: the username)")
    sub.add_parser("list", help="list agents")
    password = sub.add_parser("set-password", help="new password from stdin; ends the agent's sessions")
    password.add_argument("username")
    for name, text in (("disable", "disable an account (ends its sessions)"), ("enable", "enable it again")):
        sub.add_parser(name, help=text).add_argument("username")
    args = parser.parse_args(argv)
    try:
        directory = _directory(args.database_url)
        if args.command == "create":
            info = directory.create(
                args.username, _read_password(), role=args.role, display_name=args.display_name
            )
            print(f"已创建坐席 {info.username}（{info.role}） / created {info.username} ({info.role})")
        elif args.command == "list":
            for a in directory.list_agents():
                status = "active" if a.active else "disabled"
                last = a.last_login_at.isoformat(timespec="seconds") if a.last_login_at else "-"
                print(f"{a.username}\t{a.role}\t{status}\t{a.display_name}\tlast login {last}")
        elif args.command == "set-password":
            directory.set_password(args.username, _read_password())
            print(f"已更新 {args.username} 的密码 / password of {args.username} changed")
        else:
            directory.set_active(args.username, args.command == "enable")
            print(f"{args.username}: {args.command}d")
    except InvalidAccount as exc:
        print(f"错误：{exc.zh} / Error: {exc.en}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
