"""Screenshots of the demo for the README: runs the demo offscreen and grabs the window.

    python tools/screenshots.py [--out docs] [--seconds 4] [--rate 40]
                                [--sizes 1280x720,1920x1080]

It writes main-WIDTHxHEIGHT.png for each size (the main screen, a row selected) and
about.png.

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


def select_update(window) -> None:
    """Select a recent UPDATE of an order (its inspector has the most to show)."""
    model = window.event_model
    n = model.rowCount()
    for row in range(n - 12, max(-1, n - 200), -1):
        ev = model.event(row)
        if ev.op == "UPDATE" and ev.channel == "shop_orders":
            break
    else:
        row = max(0, n - 12)
    if n:
        window.table.selectRow(row)
        window.table.hold()  # as a click does: the row stays in view
        window.table.scrollTo(model.index(row, 0), window.table.ScrollHint.PositionAtCenter)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    ap.add_argument("--seconds", type=float, default=4.0, help="let events flow this long")
    ap.add_argument("--rate", type=int, default=40, help="demo changes per second")
    ap.add_argument("--sizes", default="1280x720,1920x1080",
                    help="window sizes WIDTHxHEIGHT, comma-separated")
    ap.add_argument("--history", action="store_true",
                    help="only the history pictures (at the first size): the History dock "
                    "and a key timeline")
    args = ap.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in size.lower().split("x"))
             for size in args.sizes.split(",") if size.strip()]
    width, height = sizes[0]

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
        os.environ["PGWATCH_DATA_DIR"] = tmp  # the journal too: not the user's
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
            if args.history:
                select_update(window)
                await history_shots(window, grab)
                await window.shutdown()
                await session.stop()
                return
            for w, h in sizes:
                window.resize(w, h)
                await asyncio.sleep(0.3)
                select_update(window)
                await asyncio.sleep(0.3)
                window.event_screen.hold_note.refresh()
                grab(window, f"main-{w}x{h}.png")
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


async def history_shots(window, grab) -> None:
    """history.png (rate graph and statistics) and timeline.png (the busiest key)."""
    from collections import Counter

    from PySide6.QtCore import Qt

    from pgwatch_gui.core.filtering.facets import facets_of

    feature = window.history
    feature.link.flush()
    feature.dock.show()
    window.resizeDocks([feature.dock], [380], Qt.Orientation.Vertical)
    dock = feature.dock_widget
    dock.span.setCurrentIndex(0)  # the last minute: the demo has not run for longer
    await asyncio.sleep(1.5)
    grab(window, "history.png")
    dock.tabs.setCurrentIndex(1)
    dock.stats = None
    dock.scope.setCurrentIndex(1)  # the journal, last hour
    for _ in range(100):
        await asyncio.sleep(0.05)
        if dock.stats is not None and dock.stats.notifications:
            break
    grab(window, "statistics.png")
    events = [e for e in window.event_model.all_events() if not e.is_gap]
    counts = Counter(facets_of(e)[1:] for e in events if all(facets_of(e)[1:]))
    (table, key), _n = counts.most_common(1)[0]
    ev = next(e for e in reversed(events) if facets_of(e)[1:] == (table, key))
    dlg = feature.open_timeline(ev)
    if dlg is None:
        print(f"no timeline for {table} {key}", file=sys.stderr)
        return
    for _ in range(100):
        await asyncio.sleep(0.05)
        if dlg.entries:
            break
    dlg.resize(1100, 560)
    dlg.table.selectRow(len(dlg.shown) - 1)
    await asyncio.sleep(0.1)
    grab(dlg, "timeline.png")
    dlg.close()


if __name__ == "__main__":
    sys.exit(main())
