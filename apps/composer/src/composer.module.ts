import { DynamicModule, Module } from '@nestjs/common';

@Module({})
export class ComposerModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: ComposerModule, imports: [platform] };
  }
}
