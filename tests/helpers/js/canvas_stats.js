/* Pixel statistics of one canvas: its size, the share of "ink" (pixels neither white nor
   transparent) and the number of distinct colours (counted up to 256).
   Argument: the canvas element. */
(canvas) => {
    const {width, height} = canvas;
    if (!width || !height) return {width, height, ink: 0, colors: 0};
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    let ink = 0;
    const colors = new Set();
    for (let i = 0; i < data.length; i += 4) {
        const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        if (data[i + 3] > 0 && rgb !== 0xffffff) ink++;
        if (colors.size < 256) colors.add(rgb * 256 + data[i + 3]);
    }
    return {width, height, ink: ink / (width * height), colors: colors.size};
}
