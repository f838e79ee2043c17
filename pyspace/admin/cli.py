"""`flask users …`: create users, make admins, disable accounts (for classrooms)."""

import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import User
from .accounts import all_users, find_user, set_disabled, set_teacher

users_cli = AppGroup("users", help="Manage py.space accounts.")


def _user_or_exit(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user


@users_cli.command("create")
@click.argument("username")
@click.password_option()
@click.option("--admin", is_flag=True, help="Make the new user an administrator.")
@click.option("--teacher", is_flag=True, help="Make the new user a teacher.")
def create_user(username: str, password: str, admin: bool, teacher: bool) -> None:
    """Create a user."""
    username = User.normalize_username(username)
    error = User.username_error(username) or User.password_error(password)
    if error:
        raise click.ClickException(error)
    if find_user(username):
        raise click.ClickException(f"The username {username!r} is taken.")
    user = User(username=username, is_admin=admin, is_teacher=teacher)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    role = "admin " if admin else "teacher " if teacher else ""
    click.echo(f"Created {role}user {username}.")


@users_cli.command("make-admin")
@click.argument("username")
def make_admin(username: str) -> None:
    """Give a user administrator rights."""
    user = _user_or_exit(username)
    user.is_admin = True
    db.session.commit()
    click.echo(f"{user.username} is now an admin.")


@users_cli.command("make-teacher")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the teacher role away instead.")
def make_teacher(username: str, revoke: bool) -> None:
    """Let a user make classes and look after their pupils' accounts (or, --revoke, no more)."""
    user = _user_or_exit(username)
    set_teacher(user, not revoke)
    click.echo(f"{user.username} is {'no longer' if revoke else 'now'} a teacher.")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account: it can no longer log in, and its sessions end."""
    user = _user_or_exit(username)
    set_disabled(user, True)
    click.echo(f"{user.username} is disabled.")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Re-enable a disabled account."""
    user = _user_or_exit(username)
    set_disabled(user, False)
    click.echo(f"{user.username} is enabled.")


@users_cli.command("list")
def list_users() -> None:
    """List every account with its flags."""
    for user in all_users():
        flags = [
            flag
            for flag, on in (
                ("admin", user.is_admin),
                ("teacher", user.is_teacher),
                ("disabled", user.is_disabled),
            )
            if on
        ]
        click.echo(f"{user.username}\t{','.join(flags) or '-'}\t{user.created_at:%Y-%m-%d}")
