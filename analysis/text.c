/* Plain-text layout for the terminal. */
#include <stdbool.h>
#include <string.h>

#include "text.h"

void an_wrap(FILE *f, const char *text, int first, int indent, int width)
{
	int col = first;
	bool fresh = true; /* nothing written on this line yet */
	for (const char *p = text; *p;) {
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		int w = (int)strcspn(p, " \n");
		if (!fresh && col + 1 + w > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			fresh = true;
		}
		if (!fresh) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, (size_t)w, f);
		col += w;
		p += w;
		fresh = false;
	}
	fputc('\n', f);
}

void an_cut_words(char *out, size_t len, const char *prefix, const char *text, size_t max)
{
	size_t n = strlen(text);
	if (n <= max) {
		snprintf(out, len, "%s%s", prefix, text);
		return;
	}
	size_t cut = max;
	while (cut > 0 && text[cut] != ' ')
		cut--;
	if (!cut) /* one long word: keep it whole */
		cut = strcspn(text, " ");
	while (cut > 0 && strchr(" ,;:(", text[cut - 1]))
		cut--;
	snprintf(out, len, "%s%.*s ...", prefix, (int)cut, text);
}
