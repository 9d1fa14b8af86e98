"""Screenshots of the demo for the README: runs the demo offscreen and grabs the window.

    python tools/screenshots.py [--out docs] [--seconds 4] [--rate 40]

The demo runs on a throw-away data directory (not the user's), so the pictures
show a fresh shop. Look at the PNGs before committing them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    ap.add_argument("--seconds", type=float, default=4.0, help="let events flow this long")
    ap.add_argument("--rate", type=int, default=40, help="demo changes per second")
    ap.add_argument("--size", default="1600x900", help="window size WIDTHxHEIGHT")
    args = ap.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.lower().split("x"))

    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    from pgwatch_gui.core.demo.session import Demo
    from pgwatch_gui.ui.demo.session import DemoSession
    from pgwatch_gui.ui.shell.about import AboutDialog
    from pgwatch_gui.ui.shell.app import make_app
    from pgwatch_gui.ui.shell.main_window import MainWindow

    app = make_app()
    app.setStyle("Fusion")
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    saved: list[Path] = []

    def grab(widget, name: str) -> None:
        path = out / name
        image = widget.grab().toImage()
        # A 256-colour palette keeps a screenshot of text small and still crisp.
        image = image.convertToFormat(QImage.Format_Indexed8, Qt.ThresholdDither)
        image.save(str(path), "PNG", 0)  # quality 0: the strongest compression
        saved.append(path)

    with tempfile.TemporaryDirectory(prefix="pgwatch-shots-") as tmp:
        window = MainWindow()
        window.resize(width, height)
        window.show()
        session = DemoSession(window, rate=args.rate, demo=Demo(root=Path(tmp) / "demo"))
        window.add_part(session)

        async def install_dialog() -> None:
            """Tables dock > Install... on a table of one's own (made here)."""
            import psycopg

            from pgwatch_gui.core.triggers import catalog
            from pgwatch_gui.ui.common.tasks import with_connection
            from pgwatch_gui.ui.triggers.dialog import TriggerDialog

            conninfo = session.demo.conninfo
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as c:
                await c.execute("CREATE TABLE IF NOT EXISTS invoices (id bigserial PRIMARY KEY, "
                                "customer_id int, total numeric(10,2), status text, "
                                "note text, created_at timestamptz DEFAULT now())")
            info = await with_connection(
                conninfo, lambda conn: catalog.table_info(conn, "public", "invoices"))
            dlg = TriggerDialog(conninfo, [info], parent=window)
            for op in ("INSERT", "DELETE"):
                dlg.form.event_boxes[op].setChecked(False)
            dlg.form.when_edit.setText("OLD.status IS DISTINCT FROM NEW.status")
            dlg.show()
            await asyncio.sleep(0.3)
            grab(dlg, "install-dialog.png")
            dlg.reject()

        async def run() -> None:
            if not await session.start():
                raise SystemExit(f"the demo did not start: {session.error}")
            await asyncio.sleep(args.seconds)
            model = window.event_model
            if model.rowCount():
                window.table.selectRow(model.rowCount() - 3 if model.rowCount() > 3 else 0)
            await asyncio.sleep(0.2)
            grab(window, "demo.png")
            about = AboutDialog(window.hub, window)
            about.show()
            await about.refresh_servers()
            grab(about, "about.png")
            about.close()
            await install_dialog()
            await window.shutdown()
            await session.stop()

        with loop:
            loop.run_until_complete(run())
    for p in saved:
        print(f"{p}  {p.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
