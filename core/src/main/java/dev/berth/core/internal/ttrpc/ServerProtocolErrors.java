package dev.berth.core.internal.ttrpc;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits behind a server's {@link FrameDecoder} and ends a connection whose framing broke. An oversized frame is first
 * answered on its stream with status 8 and the shim's wording, so a well-behaved client sees a typed failure for that
 * call; then the connection is closed, because the decoder will not read past a frame it refused to buffer. Frames go
 * on up the pipeline untouched.
 */
final class ServerProtocolErrors extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerProtocolErrors.class);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FrameError error)) {
            ctx.fireChannelRead(msg);
            return;
        }
        log.debug("[{}] ttrpc protocol error, closing the connection: {}", ctx.channel(), error.error().getMessage());
        if (error.oversized() && ctx.channel().isActive()) {
            ctx.writeAndFlush(RequestDispatcher.tooLarge(error)).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }
}
