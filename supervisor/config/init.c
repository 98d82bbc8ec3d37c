/* init.c: kiln init, which writes a new project's kiln.json and Assets/.
 *
 * The file is written beside its final name and linked into place, so that
 * an existing kiln.json is never overwritten and readers never see half of
 * one. */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config_priv.h"
#include "path.h"
/* Writes s as a JSON string body (without quotes) into f. */
static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

int config_init_project(const char *dir, char *err, size_t errsz)
{
	char abs[KILN_PATH_MAX], file[KILN_PATH_MAX], tmp[KILN_PATH_MAX], assets[KILN_PATH_MAX];
	const char *name;
	FILE *f = NULL;
	int fd = -1, rc;
	bool tmp_made = false;

	if ((rc = cfg_absolute_dir(dir, abs, sizeof abs)) || path_join(file, sizeof file, abs, "kiln.json") ||
	    path_join(tmp, sizeof tmp, abs, ".kiln.json.init") ||
	    path_join(assets, sizeof assets, abs, "Assets")) {
		rc = rc ? rc : -ENAMETOOLONG;
		snprintf(err, errsz, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (access(file, F_OK) == 0) {
		snprintf(err, errsz, "%s already exists; kiln init does not overwrite it", file);
		return -EEXIST;
	}
	if ((rc = path_mkdirs(abs, 0755)) || (rc = path_mkdirs(assets, 0755))) {
		snprintf(err, errsz, "cannot create %s: %s", rc == 0 ? abs : assets, strerror(-rc));
		return rc;
	}
	name = path_basename(abs);
	if (!*name)
		name = "kiln";
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	tmp_made = true;
	fd = -1;
	fputs("{\n  \"project\": \"", f);
	json_escape(f, name);
	fputs("\",\n"
	      "  \"platforms\": [\"pc\"],\n"
	      "  \"cache\": \"Cache\",\n"
	      "  \"scan_folders\": [\n"
	      "    {\"path\": \"Assets\", \"recursive\": true, \"order\": 0}\n"
	      "  ],\n"
	      "  \"excludes\": [\"(^|/)\\\\.git/\", \"\\\\.swp$\", \"~$\"],\n"
	      "  \"builders\": [\n"
	      "    {\"exec\": \"kiln-copy\", \"patterns\": [\"*.ogg\", \"*.wav\", \"*.mp3\", \"*.flac\", "
	      "\"*.ttf\", \"*.otf\", \"*.txt\", \"*.bin\", \"*.dat\"]},\n"
	      "    {\"exec\": \"kiln-texture\", \"patterns\": [\"*.png\", \"*.jpg\", \"*.jpeg\", \"*.tga\", "
	      "\"*.bmp\"]},\n"
	      "    {\"exec\": \"kiln-mesh\", \"patterns\": [\"*.fbx\", \"*.gltf\", \"*.glb\", \"*.obj\", "
	      "\"*.dae\", \"*.3ds\", \"*.ply\", \"*.stl\", \"*.blend\"]},\n"
	      "    {\"exec\": \"kiln-refs\", \"patterns\": [\"*.xml\", \"*.json\", \"*.cfg\", \"*.ini\", "
	      "\"*.lua\", \"*.tscn\", \"*.material\"]}\n"
	      "  ],\n"
	      "  \"hosts\": 0,\n"
	      "  \"scan\": \"fast\"\n"
	      "}\n",
	      f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		rc = -errno;
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fclose(f);
	f = NULL;
	/* link() refuses an existing name, so a kiln.json that appeared since
	 * the check above is never overwritten, and readers see the file whole. */
	if (link(tmp, file) != 0) {
		rc = -errno;
		if (rc == -EEXIST)
			snprintf(err, errsz, "%s already exists; kiln init does not overwrite it", file);
		else
			snprintf(err, errsz, "cannot create %s: %s", file, strerror(errno));
		goto fail;
	}
	unlink(tmp);
	snprintf(err, errsz, "wrote %s and created %s/", file, assets);
	return 0;
fail:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		unlink(tmp);
	return rc;
}
