"""``manage.py check_database``: one clear line when the database cannot be reached."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "データベースに接続できるかを確認します（make test の前に実行されます）。"

    def handle(self, *args, **options):
        db = connection.settings_dict
        if connection.vendor != "postgresql":
            self.stdout.write(f"データベース: {connection.vendor} {db['NAME']}")
            return
        import psycopg

        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
        try:
            # The test run creates its own database, so what matters is reaching the server:
            # connect to its maintenance database, not NAME (which may not exist yet).
            psycopg.connect(
                host=db.get("HOST") or None,
                port=db.get("PORT") or None,
                user=db.get("USER") or None,
                password=db.get("PASSWORD") or None,
                dbname="postgres",
                connect_timeout=5,
            ).close()
        except psycopg.Error as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise CommandError(
                f"PostgreSQL（{where}）に接続できません: {reason} — PostgreSQL を起動するか、"
                "DATABASE_URL=postgres://USER@HOST:PORT/NAME で接続先を指定してください。"
            ) from None
        self.stdout.write(f"PostgreSQL（{where}）に接続できました。")
