/* An <img> drawn into a new canvas of its natural size (an empty 0 x 0 canvas while the image
   is not loaded), so that canvas_stats.js can measure it.
   Argument: the image element. */
(img) => {
    const canvas = document.createElement('canvas');
    if (!img.complete || !img.naturalWidth) {
        canvas.width = 0;
        canvas.height = 0;
        return canvas;
    }
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext('2d').drawImage(img, 0, 0);
    return canvas;
}
