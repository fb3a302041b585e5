namespace GeoToken.Onnx.Tests.Preprocessing;

/// <summary>
/// The Python reference pipeline: Pillow's <c>Image.resize</c> and the torchvision / Hugging Face
/// geometry and normalisation, written out literally with NumPy (torchvision itself is not needed).
/// </summary>
internal static class PillowReference
{
    // argv: image, out_crop.raw, out_tensor.raw, S, filter(bicubic|bilinear), crop_w, crop_h,
    //       rounding(half_to_even|floor), scale01(1|0), mean_r, mean_g, mean_b, std_r, std_g, std_b, order(rgb|bgr), layout(nchw|nhwc)
    public const string Script = """
import sys
import numpy as np
from PIL import Image
a = sys.argv[1:]
img = Image.open(a[0]).convert("RGB")
S = int(a[3]); filt = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[a[4]]
cw, ch = int(a[5]), int(a[6]); rounding = a[7]; scale01 = a[8] == "1"
mean = np.array([float(x) for x in a[9:12]], dtype=np.float32)
std = np.array([float(x) for x in a[12:15]], dtype=np.float32)
order, layout = a[15], a[16]
# torchvision.transforms.functional._compute_resized_output_size (max_size None)
w, h = img.size
short, long = (w, h) if w <= h else (h, w)
new_short, new_long = S, int(S * long / short)
nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
if (nw, nh) != (w, h):
    img = img.resize((nw, nh), filt)
arr = np.asarray(img)
# torchvision.transforms.functional.center_crop: pad with 0 where the crop is larger, then crop
if cw > nw or ch > nh:
    pl, pt = (cw - nw) // 2 if cw > nw else 0, (ch - nh) // 2 if ch > nh else 0
    pr, pb = (cw - nw + 1) // 2 if cw > nw else 0, (ch - nh + 1) // 2 if ch > nh else 0
    arr = np.pad(arr, ((pt, pb), (pl, pr), (0, 0)))
H, W = arr.shape[:2]
if rounding == "floor":
    top, left = (H - ch) // 2, (W - cw) // 2
else:
    top, left = int(round((H - ch) / 2.0)), int(round((W - cw) / 2.0))
arr = np.ascontiguousarray(arr[top:top + ch, left:left + cw])
arr.tofile(a[1])
x = arr.astype(np.float32)
if scale01:
    x = x / np.float32(255)
x = (x - mean) / std
if order == "bgr":
    x = x[:, :, ::-1]
if layout == "nchw":
    x = x.transpose(2, 0, 1)
np.ascontiguousarray(x, dtype=np.float32).tofile(a[2])
""";
}
