/* Plain-text layout for the terminal. */
#ifndef COWBENCH_AN_TEXT_H
#define COWBENCH_AN_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Writes text wrapped at spaces to lines of at most width columns, the
 * first line after `first` columns already used, the others indented by
 * indent; a word longer than a line is never cut, it overflows alone. */
void an_wrap(FILE *f, const char *text, int first, int indent, int width);
/* prefix + text, cut at a space before max characters with " ..." marking
 * the cut (a word is never split). */
void an_cut_words(char *out, size_t len, const char *prefix, const char *text, size_t max);

#endif
