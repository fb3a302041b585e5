#!/usr/bin/python3
"""Regenerates the CMYK JPEG fixtures in this folder (Debian 12: python3-pil 9.4.0).

Run from this folder:  /usr/bin/python3 make_cmyk_fixtures.py
Pillow writes CMYK JPEGs the way Photoshop does: four components, inverted values, and an Adobe
APP14 segment. The outputs are committed so the tests need no Python to decode them.
"""
from PIL import Image

# 1. cmyk_quadrants.jpg: 64 x 48, four flat quadrants with known CMYK values (K > 0 in two of them).
quadrants = {
    (0, 0): (0, 255, 255, 0),      # top-left: red
    (1, 0): (255, 0, 255, 0),      # top-right: green
    (0, 1): (0, 0, 0, 128),        # bottom-left: grey made of black ink only
    (1, 1): (0, 128, 255, 64),     # bottom-right: orange-brown with some black
}
img = Image.new("CMYK", (64, 48))
for (qx, qy), cmyk in quadrants.items():
    img.paste(Image.new("CMYK", (32, 24), cmyk), (qx * 32, qy * 24))
img.save("cmyk_quadrants.jpg", quality=95, subsampling=0)

# 2. DSCN0010_cmyk.jpg: the real photo ../photos/DSCN0010.jpg at half size, converted to CMYK
#    (Pillow: C = 255 - R, M = 255 - G, Y = 255 - B, K = 0). CC BY-SA 4.0 like the original.
photo = Image.open("../photos/DSCN0010.jpg").convert("RGB").resize((320, 240), Image.BICUBIC)
photo.convert("CMYK").save("DSCN0010_cmyk.jpg", quality=90)
