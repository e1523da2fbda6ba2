"""Builder for the bundled sample images (see ../README.md).

Stdlib only, so that ``python sample_images/build.py`` runs on a bare Debian
machine. Modules:

- ``oci``        deterministic layer tars, gzip, blobs, manifests, index.json
- ``debs``       packages.lock, fetching ``.deb`` files, reading ``ar``/control/data
- ``distroless`` the distroless recipe (one layer per package + hand-made layers)
- ``slim``       the debian:12-slim recipe (debootstrap + debuerreotype's slim rules)
- ``hello``      the small static server used by the hello-* images
- ``images``     the table of sample images and how each one is assembled
"""
