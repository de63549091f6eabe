/* Footer: the keys and the run's state (pane_footer.c). */
#ifndef MTBERT_TUI_PANE_FOOTER_H
#define MTBERT_TUI_PANE_FOOTER_H

#include "app.h"

void pane_footer_draw(tui_app *app, const tui_rect *r);

#endif
